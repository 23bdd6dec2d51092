# Also in the node-libs layer, which comes later in every function's Layers: that copy wins.
WINNER = "python-libs"
