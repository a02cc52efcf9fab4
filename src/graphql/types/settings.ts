import { builder } from '../builder.js';

builder.queryField('systemPrompt', (t) =>
  t.string({
    description: 'The system prompt in effect: the admin’s, else the built-in default.',
    resolve: (_root, _args, ctx) => ctx.services.settings.getSystemPrompt(ctx.viewer),
  }),
);

builder.mutationField('setSystemPrompt', (t) =>
  t.string({
    description:
      'Admin only. An empty string restores the built-in default. Returns the prompt in effect.',
    args: { prompt: t.arg.string({ required: true }) },
    resolve: (_root, { prompt }, ctx) => ctx.services.settings.setSystemPrompt(ctx.viewer, prompt),
  }),
);
