import { builder } from '../builder.js';
import { ChatType } from './chats.js';
import { fileUrl, type FileMeta } from '../../files/service.js';

/** Uploads (issue #10): the File scalar, ChatFile, uploadFile and Chat.files. */

builder.scalarType('File', {
  description: 'A file sent with the GraphQL multipart request spec.',
  serialize: () => {
    throw new Error('File is an input-only scalar');
  },
});

export const ChatFileType = builder.objectRef<FileMeta>('ChatFile').implement({
  description: 'An uploaded file, owned by its uploader; its bytes are at `url`.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    mediaType: t.exposeString('mediaType', {
      description: 'Sniffed from the bytes, not taken from the client.',
    }),
    size: t.exposeInt('size', { description: 'Bytes.' }),
    sha256: t.exposeString('sha256'),
    url: t.string({
      description: 'GET it with the bearer token of its owner.',
      resolve: (file) => fileUrl(file.id),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.objectField(ChatType, 'files', (t) =>
  t.field({
    type: [ChatFileType],
    description: 'Files the messages of this chat carry.',
    resolve: (chat, _args, ctx) => ctx.services.files.filesOfChat(chat.id),
  }),
);

builder.mutationField('uploadFile', (t) =>
  t.field({
    type: ChatFileType,
    description:
      'Uploads a file (multipart request). Limits: FILE_MAX_BYTES (10 MB); images, PDF and UTF-8 text only. With chatId it is also linked to that chat.',
    args: {
      file: t.arg({ type: 'File', required: true }),
      chatId: t.arg.id(),
    },
    resolve: async (_root, { file, chatId }, ctx) =>
      ctx.services.files.upload(ctx.viewer, {
        name: file.name,
        data: new Uint8Array(await file.arrayBuffer()),
        chatId,
      }),
  }),
);
