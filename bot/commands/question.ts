import { AnswerCard, answerCard } from '../../src/cards/answer-cards';
import { NoticeCardData, NotUnderstoodCardData } from '../../src/cards/card-data';
import { CardAttachment } from '../../src/cards/render-card';
import { Person } from '../../src/directory/user-directory';
import { StoreUnavailableError } from '../../src/logs/log-store';
import { Filter, InvalidQueryError } from '../../src/query/log-query';
import { ParseResult } from '../../src/query/parse-question';
import { BotServices, Turn } from '../conversation';

export interface QuestionOptions {
  /** Events to skip (a "Show more" page). */
  offset?: number;
  /** The "now" the first page was read at, so every page reads "today" the same way. */
  now?: Date;
  timeZone?: string;
}

/** Who asks: a chat turn, or the dashboard's signed-in person (with no Teams turn). */
export type Asker = Pick<Turn, 'sender' | 'services'> & Partial<Pick<Turn, 'timeZone'>>;

/** Events per card page: a card stays readable in a chat. */
export const PAGE_SIZE = 10;

/**
 * Answers a plain-language question as a card. Support staff and supervisors may ask about any
 * logs; a user gets their own events only: a question about someone else is refused, any other
 * question is narrowed to them.
 */
export async function answerQuestion(turn: Asker, question: string, options: QuestionOptions = {}): Promise<CardAttachment> {
  const { services, sender } = turn;
  const { engine, cards } = services;
  if (!sender.person) {
    services.metrics.questions.inc({ outcome: 'refused' });
    return cards.attachment(
      cards.render('notice', {
        title: 'I do not know you yet',
        text: `Your Teams account (${sender.aadObjectId ?? sender.teamsId}) is not in the user directory, so I cannot tell which logs are yours. Ask your administrator to add you.`,
        style: 'attention',
      }),
    );
  }
  const answer = await askAs(services, sender.person, question, {
    timeZone: options.timeZone ?? turn.timeZone ?? engine.config.timeZone,
    now: options.now ?? new Date(engine.clock()),
    ...(options.offset ? { offset: options.offset } : {}),
  });
  switch (answer.outcome) {
    case 'answered':
      return cards.attachment(cards.render(answer.card.name, answer.card.data as never));
    case 'not-understood':
      return cards.attachment(cards.render('not-understood', answer.data));
    default:
      return cards.attachment(cards.render('notice', answer.notice));
  }
}

/**
 * The answer to a question as data (which card, with which data), for the chat (rendered by
 * `answerQuestion`) and the dashboard's search box alike: the same parse, the same role rules (a
 * user sees only their own events; a question about someone else is refused), the same texts and
 * metrics.
 */
export type QuestionAnswer =
  | { outcome: 'answered'; card: AnswerCard }
  | { outcome: 'not-understood'; data: NotUnderstoodCardData }
  | { outcome: 'refused' | 'unavailable' | 'too-much'; notice: NoticeCardData };

/** The reader's zone and "now", and the page of a long list. */
export interface AskAsOptions {
  /** The reader's zone. */
  timeZone: string;
  /** The "now" the first page was read at. */
  now: Date;
  /** Events to skip (a "Show more" page). */
  offset?: number;
}

/** Answers a question for a person of the directory. */
export async function askAs(services: BotServices, person: Person, question: string, options: AskAsOptions): Promise<QuestionAnswer> {
  const { engine, metrics } = services;
  const { timeZone, now } = options;
  const ownId = person.userId;
  const stopTimer = metrics.answerSeconds.startTimer();
  let parsed: ParseResult;
  try {
    parsed = await engine.asker.parse(question, { now, timeZone, limit: PAGE_SIZE, askerUserId: ownId });
  } catch (err) {
    if (err instanceof StoreUnavailableError) return unavailable(services, err);
    throw err;
  }
  if (!parsed.ok) {
    metrics.questions.inc({ outcome: 'not_understood' });
    return { outcome: 'not-understood', data: { question, problems: parsed.problems, examples: parsed.examples.slice(0, 5) } };
  }
  if (person.role === 'user') {
    const others = parsed.userIds.filter((id) => id !== ownId);
    if (others.length) {
      metrics.questions.inc({ outcome: 'refused' });
      return {
        outcome: 'refused',
        notice: {
          title: 'Only your own activity',
          text: `You can ask about your own problems, for example "what went wrong for me today?". Questions about other people (${others.map((id) => `user ${id}`).join(', ')}) are for support and supervisors.`,
          style: 'attention',
        },
      };
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
    return { outcome: 'answered', card: answerCard(answer, { timeZone, now, offset: options.offset ?? 0, directory: engine.directory }) };
  } catch (err) {
    if (err instanceof StoreUnavailableError) return unavailable(services, err);
    if (err instanceof InvalidQueryError) {
      metrics.questions.inc({ outcome: 'not_understood' });
      return { outcome: 'too-much', notice: { title: 'That is too much to show', text: `${err.message}.`, style: 'warning' } };
    }
    throw err;
  }
}

function unavailable(services: BotServices, err: StoreUnavailableError): QuestionAnswer {
  services.metrics.questions.inc({ outcome: 'unavailable' });
  services.logger.warn('log store unavailable', { detail: err.message });
  return { outcome: 'unavailable', notice: { title: 'Logs unavailable', text: err.userMessage, style: 'warning' } };
}
