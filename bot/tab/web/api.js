// @ts-check
/**
 * The dashboard API client. In Teams every request carries the person's SSO token (Teams caches
 * and renews it; asking for it each time is cheap). In local mode it carries nothing: the server
 * trusts this machine.
 */

/** The server's refusal or failure, with its message for people. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0: no answer)
   * @param {string} code the API's `error`
   * @param {string} message
   * @param {Record<string, unknown>} [body] the whole answer (a refused question has a title too)
   */
  constructor(status, code, message, body = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/**
 * @typedef {object} Api
 * @property {(path: string) => Promise<unknown>} get the answer's JSON (the caller knows its shape)
 * @property {(path: string, body: unknown) => Promise<unknown>} post
 */

/**
 * @param {(() => Promise<string>) | undefined} getToken
 * @returns {Api}
 */
export function createApi(getToken) {
  /**
   * @param {'GET' | 'POST'} method
   * @param {string} path
   * @param {unknown} [body]
   */
  async function request(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = { accept: 'application/json' };
    if (getToken) {
      try {
        headers.authorization = `Bearer ${await getToken()}`;
      } catch (err) {
        throw new ApiError(401, 'sign-in', `Teams could not sign you in to the dashboard (${err instanceof Error ? err.message : String(err)}). Ask your administrator whether single sign-on is set up for the app.`);
      }
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch {
      throw new ApiError(0, 'offline', 'The bot did not answer. Check that it is running, then try again.');
    }
    /** @type {unknown} */
    let data;
    try {
      data = await response.json();
    } catch {
      data = undefined;
    }
    if (!response.ok) {
      const body = data && typeof data === 'object' ? /** @type {Record<string, unknown>} */ (data) : {};
      throw new ApiError(response.status, String(body.error ?? 'error'), String(body.message ?? `The bot answered ${response.status}.`), body);
    }
    return data;
  }
  return {
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body),
  };
}
