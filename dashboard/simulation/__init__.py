"""The simulation pages: the public /demo widget and the liquidity sizing runs."""
