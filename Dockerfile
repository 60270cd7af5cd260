# One image, every role: ROLE=http|worker|media|all picks what a container runs.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --include=dev --no-audit --no-fund
COPY . .
RUN npm run build
ENV CONSOLE_BUILD=never
USER node
EXPOSE 3000
# Media nodes also need their UDP port range published (MEDIA_PORT_MIN..MEDIA_PORT_MAX).
CMD ["npx", "tsx", "src/main.ts"]
