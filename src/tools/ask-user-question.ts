import { fail, ok, type Tool } from './tool.js';

const MIN_OPTIONS = 2;
const MAX_OPTIONS = 4;

/**
 * ask_user_question (B20): structured clarification questions. The tool validates and echoes them
 * (clients render them from the ToolCallPart); the user's answer arrives as their next message.
 */
export function createAskUserQuestionTool(): Tool {
  return {
    name: 'ask_user_question',
    description:
      'Ask the user one or more structured clarification questions instead of listing open ' +
      'questions in prose. Each question has a short header, the question, and 2-4 answer ' +
      'options (no "Other" option: the user can always answer freely). After asking, end your ' +
      "turn: the answer comes as the user's next message.",
    parameters: {
      type: 'object',
      properties: {
        questions: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            properties: {
              header: { type: 'string', description: 'A short label (a few words).' },
              question: { type: 'string', description: 'The full question.' },
              options: {
                type: 'array',
                minItems: MIN_OPTIONS,
                maxItems: MAX_OPTIONS,
                items: {
                  type: 'object',
                  properties: {
                    label: { type: 'string' },
                    description: { type: 'string' },
                  },
                  required: ['label', 'description'],
                  additionalProperties: false,
                },
              },
            },
            required: ['header', 'question', 'options'],
            additionalProperties: false,
          },
        },
      },
      required: ['questions'],
      additionalProperties: false,
    },
    readOnly: true,
    planTool: true,
    async execute(args) {
      const questions = args['questions'];
      if (!Array.isArray(questions) || questions.length === 0) return fail('questions is required');
      for (const [index, raw] of questions.entries()) {
        const question = (raw ?? {}) as Record<string, unknown>;
        for (const field of ['header', 'question'] as const) {
          if (typeof question[field] !== 'string' || !question[field]) {
            return fail(`questions[${index}].${field} is required`);
          }
        }
        const options = question['options'];
        if (
          !Array.isArray(options) ||
          options.length < MIN_OPTIONS ||
          options.length > MAX_OPTIONS
        ) {
          return fail(
            `questions[${index}].options must contain ${MIN_OPTIONS}-${MAX_OPTIONS} items`,
          );
        }
        for (const [optionIndex, option] of options.entries()) {
          const label = (option as Record<string, unknown> | null)?.['label'];
          if (typeof label !== 'string' || !label) {
            return fail(`questions[${index}].options[${optionIndex}].label is required`);
          }
        }
      }
      return ok({ questions, awaiting_answer: true });
    },
  };
}
