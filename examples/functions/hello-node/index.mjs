// HelloNode: answers with a greeting, the event it received and its request id.
export const handler = async (event, context) => {
  console.log('received', JSON.stringify(event));
  return {
    message: `${process.env.GREETING ?? 'hello'} from node`,
    event,
    requestId: context.awsRequestId,
  };
};
