// Text: string operations on the event (for lambdad test's example suite).
exports.handler = async (event) => {
  const text = event.text ?? '';
  switch (event.op) {
    case 'upper': return { text: text.toUpperCase() };
    case 'reverse': return { text: [...text].reverse().join('') };
    case 'words': return { words: text.split(/\s+/).filter(Boolean), count: text.split(/\s+/).filter(Boolean).length };
    case 'length': return { length: [...text].length };
    case 'throw': throw new TypeError(`cannot handle ${text}`);
    default: throw new Error(`unknown op ${event.op}`);
  }
};
