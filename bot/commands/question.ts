import { answerCard } from '../../src/cards/answer-cards';
import { StoreUnavailableError } from '../../src/logs/log-store';
import { InvalidQueryError, Filter } from '../../src/query/log-query';
import { ParseResult } from '../../src/query/parse-question';
import { CardAttachment } from '../../src/cards/render-card';
import { Turn } from '../conversation';

export interface QuestionOptions {
  /** Events to skip (a "Show more" page). */
  offset?: number;
  /** The "now" the first page was read at, so every page reads "today" the same way. */
  now?: Date;
  timeZone?: string;
}

/** Events per card page: a card stays readable in a chat. */
export const PAGE_SIZE = 10;

/**
 * Answers a plain-language question as a card. Support staff and supervisors may ask about any
 * logs; a user gets their own events only: a question about someone else is refused, any other
 * question is narrowed to them.
 */
export async function answerQuestion(turn: Turn, question: string, options: QuestionOptions = {}): Promise<CardAttachment> {
  const { services, sender } = turn;
  const { engine, cards, metrics } = services;
  const timeZone = options.timeZone ?? turn.timeZone;
  const now = options.now ?? new Date(engine.clock());
  const role = sender.person?.role;
  const notice = (title: string, text: string, style: 'attention' | 'warning' | 'default' = 'attention') =>
    cards.attachment(cards.render('notice', { title, text, style }));

  if (!sender.person) {
    metrics.questions.inc({ outcome: 'refused' });
    return notice(
      'I do not know you yet',
      `Your Teams account (${sender.aadObjectId ?? sender.teamsId}) is not in the user directory, so I cannot tell which logs are yours. Ask your administrator to add you.`,
    );
  }
  const ownId = sender.person.userId;
  const stopTimer = metrics.answerSeconds.startTimer();
  let parsed: ParseResult;
  try {
    parsed = await engine.asker.parse(question, { now, timeZone, limit: PAGE_SIZE, askerUserId: ownId });
  } catch (err) {
    if (err instanceof StoreUnavailableError) return unavailable(turn, err);
    throw err;
  }
  if (!parsed.ok) {
    metrics.questions.inc({ outcome: 'not_understood' });
    return cards.attachment(cards.render('not-understood', { question, problems: parsed.problems, examples: parsed.examples.slice(0, 5) }));
  }
  if (role === 'user') {
    const others = parsed.userIds.filter((id) => id !== ownId);
    if (others.length) {
      metrics.questions.inc({ outcome: 'refused' });
      return notice(
        'Only your own activity',
        `You can ask about your own problems, for example "what went wrong for me today?". Questions about other people (${others.map((id) => `user ${id}`).join(', ')}) are for support and supervisors.`,
      );
    }
    if (!parsed.userIds.includes(ownId)) {
      // Whatever was asked, a user sees their own events only.
      const mine: Filter = { op: 'eq', field: 'user.id', value: ownId };
      parsed = { ...parsed, query: { ...parsed.query, filters: [...parsed.query.filters, mine] }, interpretation: parsed.interpretation.replace(/,(?=[^,]*$)/, ' for you,'), userIds: [ownId] };
    }
  }
  try {
    const answer = await engine.asker.run(parsed, { timeZone, ...(options.offset ? { offset: options.offset } : {}) });
    metrics.questions.inc({ outcome: 'answered' });
    stopTimer();
    const card = answerCard(answer, { timeZone, now, offset: options.offset ?? 0, directory: engine.directory });
    return cards.attachment(cards.render(card.name, card.data as never));
  } catch (err) {
    if (err instanceof StoreUnavailableError) return unavailable(turn, err);
    if (err instanceof InvalidQueryError) {
      metrics.questions.inc({ outcome: 'not_understood' });
      return notice('That is too much to show', `${err.message}.`, 'warning');
    }
    throw err;
  }
}

function unavailable(turn: Turn, err: StoreUnavailableError): CardAttachment {
  turn.services.metrics.questions.inc({ outcome: 'unavailable' });
  turn.services.logger.warn('log store unavailable', { detail: err.message });
  return turn.services.cards.attachment(turn.services.cards.render('notice', { title: 'Logs unavailable', text: err.userMessage, style: 'warning' }));
}
