"""Live push: page snapshots, the websocket consumers and the commands sent over them."""
