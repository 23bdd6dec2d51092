def handler(event, context)
    return "this module does not compile"
