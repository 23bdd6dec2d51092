// Every route of the test's WebSocket API. "send" answers through the management API the way a
// deployed handler does: an ApiGatewayManagementApiClient at http(s)://${domainName}/${stage}.
const {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} = require('@aws-sdk/client-apigatewaymanagementapi');

exports.handler = async (event) => {
  const { routeKey, connectionId, domainName, stage, eventType } = event.requestContext;
  console.log(`EVENT ${routeKey} ${eventType} ${connectionId} ${JSON.stringify(event.requestContext)}`);
  if (routeKey === '$connect') {
    const query = event.queryStringParameters || {};
    if (query.crash) throw new Error('refused by crashing');
    if (query.deny) return { statusCode: 403 };
    return { statusCode: 200 };
  }
  if (routeKey === '$disconnect') {
    const { disconnectStatusCode, disconnectReason } = event.requestContext;
    console.log(`DISCONNECT ${connectionId} ${disconnectStatusCode} ${disconnectReason}`);
    return { statusCode: 200 };
  }
  if (routeKey === 'whoami') {
    const answer = { authorizer: event.requestContext.authorizer, stageVariables: event.stageVariables };
    return { statusCode: 200, body: JSON.stringify(answer) };
  }
  const body = JSON.parse(event.body);
  if (routeKey === 'ping') return { statusCode: 200, body: JSON.stringify({ pong: body.n }) };
  const client = new ApiGatewayManagementApiClient({
    endpoint: `http://${domainName}/${stage}`,
    region: process.env.AWS_REGION || 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  await client.send(new PostToConnectionCommand({
    ConnectionId: connectionId,
    Data: JSON.stringify({ echo: body.text, route: routeKey, messageId: event.requestContext.messageId }),
  }));
  return { statusCode: 200 };
};

// GuardedApi's $connect authorizer: the Auth header "allow" is allowed (with a context), "deny"
// is denied by an explicit Deny.
exports.authorize = async (event) => {
  const auth = event.headers.Auth ?? event.headers.auth;
  const effect = auth === 'allow' ? 'Allow' : 'Deny';
  return {
    principalId: 'ann',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn }],
    },
    context: { via: auth, eventType: event.requestContext.eventType },
  };
};
