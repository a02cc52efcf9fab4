import { z } from 'zod';

import { defineTool, ok } from './tool.js';

const MIN_OPTIONS = 2;
const MAX_OPTIONS = 4;

const argsSchema = z.strictObject({
  questions: z
    .array(
      z.strictObject({
        header: z.string().trim().min(1).describe('A short label (a few words).'),
        question: z.string().trim().min(1).describe('The full question.'),
        options: z
          .array(
            z.strictObject({
              label: z.string().trim().min(1),
              description: z.string(),
            }),
          )
          .min(MIN_OPTIONS)
          .max(MAX_OPTIONS),
      }),
    )
    .min(1),
});

/**
 * ask_user_question (B20): structured clarification questions. A valid call ends the turn: the
 * chat WAITs with the questions on Chat.pendingQuestion until answerQuestion or any message.
 */
export function createAskUserQuestionTool() {
  return defineTool({
    name: 'ask_user_question',
    description:
      'Ask the user one or more structured clarification questions instead of listing open ' +
      'questions in prose. Each question has a short header, the question, and 2-4 answer ' +
      'options (no "Other" option: the user can always answer freely). Your turn ends when the ' +
      "questions are asked: the answers come as the user's next message.",
    schema: argsSchema,
    readOnly: true,
    planTool: true,
    async execute({ questions }) {
      return {
        ...ok({ questions, awaiting_answer: true }),
        endsTurn: { kind: 'question', questions },
      };
    },
  });
}
