# Also in the python-libs layer, which comes earlier in every function's Layers: this copy wins.
WINNER = "node-libs"
