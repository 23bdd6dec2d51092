const { execFileSync } = require('node:child_process');
const greeting = require('layer-greeting');

exports.handler = async (event) => ({
  greeting: greeting.greet(event.name || 'you'),
  greetingFile: require.resolve('layer-greeting'),
  tool: execFileSync('layer-tool', ['from node']).toString().trim(),
  env: { NODE_PATH: process.env.NODE_PATH, PATH: process.env.PATH },
});
