// Node.js function of the soak (bench/soak/template.yaml).
export const hello = async (event, context) => ({ n: event.n, lang: 'node', requestId: context.awsRequestId });
