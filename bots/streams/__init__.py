"""The stream process: fills and hedge books pushed by the exchanges over websockets (ccxt.pro)."""
