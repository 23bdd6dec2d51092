VALUE = "shared"
