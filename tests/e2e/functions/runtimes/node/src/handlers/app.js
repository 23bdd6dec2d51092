exports.handler = async () => ({ module: 'src/handlers/app' });
