# agentgraph server (and workspace agent) image.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# The workspace sandbox: bubblewrap runs each workspace command in its own namespaces;
# slirp4netns and iproute2 serve WORKSPACE_NETWORK=outbound (prlimit and nsenter come with
# util-linux); git serves the files-changed view and undo's checkpoints. bwrap needs user
# namespaces, which Docker's default seccomp/AppArmor profiles
# refuse: see README "Security model".
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bubblewrap slirp4netns iproute2 git \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# The sources are not copied yet, so install without the postinstall build; the dev
# dependencies (TypeScript, Prisma's generator) are needed for the build below.
RUN npm ci --include=dev --ignore-scripts
COPY . .
# postinstall's work: generate the Prisma client, then compile src/ to dist/ (no tsx at run time).
RUN node scripts/prisma-generate.mjs && npm run build
EXPOSE 4000
CMD ["node", "--enable-source-maps", "dist/main.js"]
