// Traced with Powertools for AWS Lambda's Tracer (aws-xray-sdk-core underneath), instrumented
// by hand as its documentation shows for handlers without middy or decorators. The test copies
// this file and the tracer's packages into a directory of its own (the function ships its
// dependencies, as a deployed one does).
const { Tracer } = require('@aws-lambda-powertools/tracer');

const tracer = new Tracer();

exports.handler = async (event) => {
  const facade = tracer.getSegment();
  const handlerSegment = facade.addNewSubsegment(`## ${process.env._HANDLER}`);
  tracer.setSegment(handlerSegment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  try {
    const work = handlerSegment.addNewSubsegment('### work');
    work.addAnnotation('n', event.n ?? 0);
    work.close();
    const result = {
      traceHeader: process.env._X_AMZN_TRACE_ID,
      tracingEnabled: tracer.isTracingEnabled(),
      daemonAddress: process.env.AWS_XRAY_DAEMON_ADDRESS,
      daemonHost: process.env._AWS_XRAY_DAEMON_ADDRESS,
      daemonPort: process.env._AWS_XRAY_DAEMON_PORT,
      contextMissing: process.env.AWS_XRAY_CONTEXT_MISSING,
      traceId: tracer.getRootXrayTraceId(),
    };
    tracer.addResponseAsMetadata(result, process.env._HANDLER);
    return result;
  } catch (err) {
    tracer.addErrorAsMetadata(err);
    throw err;
  } finally {
    handlerSegment.close();
    tracer.setSegment(facade);
  }
};
