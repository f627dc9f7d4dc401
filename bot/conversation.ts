import { TurnContext } from 'botbuilder';
import { isValidZone } from '../src/logs/timestamps';
import { Engine } from '../src/engine';
import { CardDataByName, CardName, CardRenderer } from '../src/cards/render-card';
import { ConversationStore } from '../src/state/state-store';
import { Logger } from '../src/logger';
import { Metrics } from './metrics';
import type { AlertRuntime } from './alerts-runtime';
import { Sender } from './identity';

/** What every handler of the bot is given: the engine and the bot's own services. */
export interface BotServices {
  engine: Engine;
  conversations: ConversationStore;
  cards: CardRenderer;
  metrics: Metrics;
  logger: Logger;
  /** Alerting (rules, engine, outbox, dispatcher); absent when the bot runs without it. */
  alerts?: AlertRuntime;
}

/** One turn as a handler sees it: who asked, in which zone, how to answer. */
export interface Turn {
  context: TurnContext;
  sender: Sender;
  services: BotServices;
  /** The reader's IANA zone: Teams sends it with each activity; otherwise the configured default. */
  timeZone: string;
}

export function zoneOf(context: TurnContext, fallback: string): string {
  const zone = context.activity.localTimezone;
  return zone && isValidZone(zone) ? zone : fallback;
}

/** Renders a card and sends it as the reply. */
export async function replyCard<K extends CardName>(turn: Turn, name: K, data: CardDataByName[K]): Promise<string | undefined> {
  const card = turn.services.cards.render(name, data);
  const sent = await turn.context.sendActivity({ type: 'message', attachments: [turn.services.cards.attachment(card)] });
  return sent?.id;
}

/** The role words people see. */
export function roleName(role: string | undefined): string {
  switch (role) {
    case 'support':
      return 'support engineer';
    case 'supervisor':
      return 'supervisor';
    case 'user':
      return 'user';
    default:
      return 'not in the directory';
  }
}
