import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** The bot's Prometheus metrics, on a registry of its own (no global state). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'supportbot_' });
  return {
    registry,
    activities: new Counter({ name: 'supportbot_activities_total', help: 'Activities received, by type', labelNames: ['type'], registers: [registry] }),
    questions: new Counter({
      name: 'supportbot_questions_total',
      help: 'Chat questions, by outcome (answered, not_understood, refused, unavailable)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    cardActions: new Counter({ name: 'supportbot_card_actions_total', help: 'Card actions, by verb and outcome', labelNames: ['verb', 'outcome'], registers: [registry] }),
    turnErrors: new Counter({ name: 'supportbot_turn_errors_total', help: 'Turns that failed with an unexpected error', registers: [registry] }),
    answerSeconds: new Histogram({
      name: 'supportbot_answer_seconds',
      help: 'Time to answer a question, from parsing to the card',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
