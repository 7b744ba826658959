/** Stops the stand-ins global-setup.ts started (and only those). */
export default async function globalTeardown(): Promise<void> {
  const standIns = globalThis.__TRIGGERFISH_STANDINS__;
  globalThis.__TRIGGERFISH_STANDINS__ = undefined;
  if (!standIns) return;
  await standIns.stop();
  delete process.env.TF_TEST_DYNAMODB_ENDPOINT;
  delete process.env.TF_TEST_SQS_ENDPOINT;
}
