// Where require() may look for packages (docs/decisions/014). In a Lambda-shaped root the code is
// at /var/task and nothing above it has a node_modules, as on Lambda. On the host's paths the
// lookup would walk on above the code directory into whatever node_modules the host has there, so
// lookups from files under the code directory stop at it.
import Module from 'node:module';
import path from 'node:path';

function under(dir, root) {
  return dir === root || dir.startsWith(root + path.sep);
}

export function confineModulePaths(taskRoot) {
  if (!taskRoot) return;
  const root = path.resolve(taskRoot);
  if (root === '/var/task') return;
  const lookup = Module._nodeModulePaths;
  Module._nodeModulePaths = function nodeModulePaths(from) {
    const paths = lookup.call(this, from);
    if (!under(path.resolve(from), root)) return paths;
    return paths.filter((p) => under(path.dirname(p), root));
  };
}
