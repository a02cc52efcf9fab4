# agentgraph server (and workspace agent) image.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY scripts ./scripts
RUN npm ci
COPY . .
RUN node scripts/prisma-generate.mjs
EXPOSE 4000
CMD ["npx", "tsx", "src/main.ts"]
