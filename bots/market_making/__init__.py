"""Market making: the tick that quotes a market, its hot reads, operator commands, and the
dead man's switch that pulls quotes nobody manages."""
