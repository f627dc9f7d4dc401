import Database from 'better-sqlite3';
import { CardRenderer } from '../cards/render-card';
import { Clock } from '../clock';
import { UserDirectory } from '../directory/user-directory';
import { LogStore } from '../logs/log-store';
import { Logger } from '../logger';
import { AlertState } from './alert-state';
import { AlertEngine, AlertEngineOptions } from './engine';
import { IncidentCards } from './incident-cards';
import { IncidentStore } from './incidents';
import { Outbox } from './outbox';
import { Rule } from './rule';

/** The alerting core over one SQLite database: state, outbox, incidents and the engine, wired together. */
export interface Alerting {
  state: AlertState;
  outbox: Outbox;
  incidents: IncidentStore;
  incidentCards: IncidentCards;
  engine: AlertEngine;
}

export interface AlertingDeps {
  db: Database.Database;
  store: LogStore;
  rules: Rule[];
  directory: UserDirectory;
  cards: CardRenderer;
  clock: Clock;
  logger: Logger;
  options: AlertEngineOptions;
  onEnqueued?: () => void;
}

/** Builds the alerting core; the bot, `alerts run` and the tests all use this one wiring. */
export function createAlerting(deps: AlertingDeps): Alerting {
  const state = new AlertState(deps.db);
  const outbox = new Outbox(deps.db);
  const incidents = new IncidentStore(deps.db, state, deps.clock);
  let engine: AlertEngine | undefined;
  const incidentCards = new IncidentCards({
    state,
    incidents,
    outbox,
    directory: deps.directory,
    cards: deps.cards,
    clock: deps.clock,
    rules: () => engine?.rules ?? deps.rules,
    timeZone: deps.options.timeZone,
  });
  engine = new AlertEngine({
    store: deps.store,
    rules: deps.rules,
    directory: deps.directory,
    state,
    outbox,
    incidents,
    incidentCards,
    cards: deps.cards,
    clock: deps.clock,
    logger: deps.logger,
    options: deps.options,
    ...(deps.onEnqueued ? { onEnqueued: deps.onEnqueued } : {}),
  });
  return { state, outbox, incidents, incidentCards, engine };
}
