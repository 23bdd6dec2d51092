def handler(event, context): return {"ok": True, "from": "py", "greeting": __import__('os').environ.get('GREETING')}
