import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdaptiveCardInvokeResponse } from 'botbuilder';
import { CHAT_COMMANDS } from '../../src/chat-commands';
import { parseRuleFile, RuleDraft, ruleToYaml } from '../../src/alerts/rule-loader';
import { RuleDraftCardData } from '../../src/cards/card-data';
import { replyCard, Turn } from '../conversation';
import { badRequest, CardVerbHandler } from '../support-bot';
import { CommandHandler } from './index';

/**
 * `rule from "<question>"`: a question that found a problem becomes an alert rule in one step. The
 * draft card shows the rule file; the person names it, writes the card text and saves. Only
 * support may save; the question is signed into the card, and the rule is checked like any rule
 * file before it is written to rules/ and starts running.
 */
const ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

function slug(question: string): string {
  const words = question.toLowerCase().replace(/"[^"]*"/g, (q) => q.slice(1, -1)).match(/[a-z0-9]+/g) ?? ['rule'];
  const useful = words.filter((w) => !['show', 'count', 'how', 'many', 'the', 'for', 'me', 'today', 'yesterday', 'this', 'week', 'last', 'by', 'per', 'hour', 'day', 'since'].includes(w));
  return (useful.length ? useful : words).join('-').slice(0, 48).replace(/-+$/, '') || 'rule';
}

function alerts(turn: Turn) {
  const a = turn.services.alerts;
  if (!a) throw new Error('alerting is not running in this bot');
  return a;
}

interface DraftInput {
  question: string;
  id: string;
  title: string;
  problem: string;
  workaround: string;
  enabled: boolean;
}

async function build(turn: Turn, input: DraftInput): Promise<{ data: RuleDraftCardData; draft?: RuleDraft; yaml?: string } | { refused: string }> {
  const engine = turn.services.engine;
  const parsed = await engine.asker.parse(input.question, { now: new Date(engine.clock()), timeZone: turn.timeZone, limit: 10 });
  if (!parsed.ok) return { refused: `I could not read the question: ${parsed.problems.join(' ')}` };
  const draft: RuleDraft = {
    id: input.id,
    description: `Drafted from the chat question "${input.question}" by ${turn.sender.name}.`,
    filters: parsed.query.filters,
    question: input.question,
    enabled: input.enabled,
    card: {
      title: input.title,
      problem: input.problem,
      workaround: input.workaround.split('\n').map((l) => l.trim()).filter(Boolean),
      links: [],
    },
  };
  const yaml = ruleToYaml(draft);
  return {
    draft,
    yaml,
    data: {
      question: input.question,
      interpretation: parsed.interpretation,
      problems: [],
      saved: '',
      id: input.id,
      title: input.title,
      problem: input.problem,
      workaround: input.workaround,
      enabled: String(input.enabled),
      yaml,
      sig: alerts(turn).incidents.sign(0, `rule-draft:${input.question}`),
    },
  };
}

export const ruleFrom: CommandHandler = {
  command: CHAT_COMMANDS.find((c) => c.name === 'rule')!,
  async run(turn, args) {
    const m = /^from\s+["“]?(.+?)["”]?\s*$/is.exec(args.trim());
    if (!m) {
      await replyCard(turn, 'notice', { title: 'How to draft a rule', text: 'Write rule from "<question>", e.g. rule from "errors on /api/entities without parameter isAcknowledged".', style: 'warning' });
      return;
    }
    const question = m[1]!.trim();
    const built = await build(turn, {
      question,
      id: slug(question),
      title: 'A known problem hit you',
      problem: 'Something you did at {time} failed because of a known problem.',
      workaround: 'Describe the first step of the workaround here.',
      enabled: false,
    });
    if ('refused' in built) {
      await replyCard(turn, 'notice', { title: 'No draft', text: built.refused, style: 'warning' });
      return;
    }
    await replyCard(turn, 'rule-draft', built.data);
  },
};

/** `rule.save`: checks and writes the rule, then it runs with the others. */
export function ruleVerbs(): Record<string, CardVerbHandler> {
  const save: CardVerbHandler = async (turn, data): Promise<AdaptiveCardInvokeResponse> => {
    if (turn.sender.person?.role !== 'support') {
      return { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'Only support engineers can save alert rules.' as never };
    }
    const question = data.question;
    if (typeof question !== 'string' || question.length > 500 || !alerts(turn).incidents.verify(0, `rule-draft:${question}`, data.sig)) {
      turn.services.logger.warn('card action refused: forged rule draft', { from: turn.sender.aadObjectId });
      return badRequest('This draft is not valid any more. Draft it again with rule from "<question>".');
    }
    const text = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : '');
    const input: DraftInput = {
      question,
      id: text(data.id, 63).trim(),
      title: text(data.title, 120).trim(),
      problem: text(data.problem, 500).trim(),
      workaround: text(data.workaround, 2000),
      enabled: data.enabled === 'true' || data.enabled === true,
    };
    const built = await build(turn, input);
    if ('refused' in built) return badRequest(built.refused);
    const dir = turn.services.engine.config.alerts.rulesDir;
    const file = join(dir, `${input.id}.yaml`);
    const problems: string[] = [];
    if (!ID.test(input.id)) problems.push('id: use lower-case letters, digits and -, 2 to 63 characters');
    if (alerts(turn).rules().some((r) => r.id === input.id) || existsSync(file)) problems.push(`id: a rule '${input.id}' exists already; choose another id`);
    const checked = parseRuleFile(built.yaml!, file);
    problems.push(...checked.problems.map((p) => `line ${p.line}: ${p.message}`));
    const respond = (d: RuleDraftCardData): AdaptiveCardInvokeResponse => ({
      statusCode: 200,
      type: 'application/vnd.microsoft.card.adaptive',
      value: turn.services.cards.render('rule-draft', d) as never,
    });
    if (problems.length || !checked.rule) return respond({ ...built.data, problems: problems.length ? problems : ['the rule could not be read back'] });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, built.yaml!, { flag: 'wx' });
    renameSync(temp, file);
    alerts(turn).rules().push(checked.rule);
    turn.services.logger.info('alert rule saved from chat', { rule: checked.rule.id, by: turn.sender.person.userId, enabled: checked.rule.enabled });
    return respond({
      ...built.data,
      saved: `Saved as ${file}${checked.rule.enabled ? '; it runs from now on.' : '; it is disabled: set enabled: true in the file (or save a new draft) to start it.'}`,
    });
  };
  return { 'rule.save': save };
}
