module.exports.handler = async (event) => ({ module: 'cjs', event });
