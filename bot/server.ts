import { CloudAdapter } from 'botbuilder';
import * as restify from 'restify';
import { Logger } from '../src/logger';
import { LogStore } from '../src/logs/log-store';
import { Metrics } from './metrics';
import { SupportBot } from './support-bot';

export interface ServerDeps {
  adapter: CloudAdapter;
  bot: SupportBot;
  metrics: Metrics;
  logger: Logger;
  logStore: LogStore;
  /** True when the bot has credentials: every activity must carry a Bot Framework token. */
  requireToken?: boolean;
  /** Extra routes (the dashboard tab). */
  routes?: (server: restify.Server) => void;
}

/**
 * The HTTP surface: POST /api/messages (Bot Framework), GET /healthz, GET /metrics (Prometheus).
 * The body parser is limited: an activity is small; anything bigger is refused before the bot sees it.
 */
export function createServer(deps: ServerDeps): restify.Server {
  const server = restify.createServer({ name: 'supportbot', handleUncaughtExceptions: false });
  server.use(restify.plugins.queryParser());
  server.use(restify.plugins.bodyParser({ maxBodySize: 1024 * 1024, mapParams: false }));

  server.post('/api/messages', async (req, res) => {
    // A request without any bearer token is refused here with one log line; the adapter would
    // refuse it too, but prints a stack trace for each, which scanners turn into a log flood.
    if (deps.requireToken && !/^Bearer \S+$/i.test(String(req.headers.authorization ?? ''))) {
      deps.logger.warn('activity refused: no bearer token', { remote: req.socket.remoteAddress });
      res.json(401, { error: 'Unauthorized: a Bot Framework bearer token is required.' });
      return;
    }
    await deps.adapter.process(req, res as never, (context) => deps.bot.run(context));
  });

  server.get('/healthz', async (_req, res) => {
    const started = Date.now();
    try {
      const events = await Promise.race([
        deps.logStore.size(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000)),
      ]);
      res.json(200, { status: 'ok', logStore: { kind: deps.logStore.kind, events, ms: Date.now() - started } });
    } catch {
      res.json(503, { status: 'degraded', logStore: { kind: deps.logStore.kind, reachable: false } });
    }
  });

  server.get('/metrics', async (_req, res) => {
    const body = await deps.metrics.registry.metrics();
    res.setHeader('content-type', deps.metrics.registry.contentType);
    res.sendRaw(200, body);
  });

  // The app package links to these (PRIVACY_URL and TERMS_URL default to them).
  const page = (title: string, body: string) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
  server.get('/privacy', async (_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.sendRaw(
      200,
      page(
        'Support Bot: privacy',
        '<p>The bot reads your organisation\'s application logs to find people affected by known problems and to answer support questions. ' +
          'It keeps log events, Teams conversation references, incidents and their audit trail on your organisation\'s own servers. ' +
          'Passwords, tokens and other secrets found in logs are masked before anything is shown in Teams. Nothing is sent to the bot\'s authors.</p>',
      ),
    );
  });
  server.get('/terms', async (_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.sendRaw(200, page('Support Bot: terms of use', "<p>Use of the bot is governed by your organisation's IT policies.</p>"));
  });

  deps.routes?.(server);

  server.on('restifyError', (req, _res, err, callback) => {
    deps.logger.warn('http error', { method: req.method, url: req.url, status: (err as { statusCode?: number }).statusCode });
    return callback();
  });
  return server;
}
