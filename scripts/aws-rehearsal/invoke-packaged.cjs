// Runs one packaged Lambda handler once, as the Node runtime would, in a process of its own (so its AWS SDK reads
// only this function role's credentials from the environment):
//   node invoke-packaged.cjs <unzipped dir> <module.export> <event file> <result file>
// The result (or the error) goes to the result file: stdout and stderr are the function's log.
const fs = require('node:fs');
const path = require('node:path');
const { randomUUID } = require('node:crypto');

const [dir, handler, eventFile, resultFile] = process.argv.slice(2);
const dot = handler.lastIndexOf('.');
const fn = require(path.join(dir, handler.slice(0, dot)))[handler.slice(dot + 1)];
const name = process.env.AWS_LAMBDA_FUNCTION_NAME;
const deadline = Date.now() + Number(process.env.FUNCTION_TIMEOUT_SECONDS || 10) * 1000;
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: name,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${name}`,
  memoryLimitInMB: '256',
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/${name}`,
  logStreamName: 'test-aws',
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};
const done = (outcome) => {
  fs.writeFileSync(resultFile, JSON.stringify(outcome));
  process.exit(0);
};
Promise.resolve()
  .then(() => fn(JSON.parse(fs.readFileSync(eventFile, 'utf8')), context))
  .then(
    (result) => done({ ok: true, result }),
    (err) => done({ ok: false, error: String((err && err.stack) || err) }),
  );
