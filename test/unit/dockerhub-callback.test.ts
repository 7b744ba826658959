import { allowedCallback } from '../../lib/deploy/dockerhub-callback';

describe('allowedCallback: only Docker Hub over https', () => {
  it.each([
    ['https://registry.hub.docker.com/u/svendowideit/testhook/hook/2141b5bi5i5b02bec211i4eeih0242eg11000a/', true],
    ['https://hub.docker.com/api/callback/abc', true],
    ['http://registry.hub.docker.com/u/x/hook/y/', false],
    ['https://registry.hub.docker.com:8443/u/x/', false],
    ['https://registry.hub.docker.com.evil.example/u/x/', false],
    ['https://user:pw@registry.hub.docker.com/u/x/', false],
    ['https://169.254.169.254/latest/meta-data/', false],
    ['not a url', false],
    [undefined, false],
  ])('%s -> %s', (url, ok) => {
    expect(allowedCallback(url as string | undefined) !== undefined).toBe(ok);
  });
  it('extra hosts (local tests) are honoured exactly', () => {
    expect(allowedCallback('http://127.0.0.1:8080/cb', ['127.0.0.1:8080'])).toBeDefined();
    expect(allowedCallback('http://127.0.0.1:8081/cb', ['127.0.0.1:8080'])).toBeUndefined();
  });
});
