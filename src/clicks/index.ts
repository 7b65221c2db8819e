export { assignmentClicks, clickTokenFor, clickUrl, followClick, newClickToken, TOKEN_PATTERN, type ClickCounts, type ClickLinkInput } from './links.ts';
export { clickRedirectHandler } from './route.ts';
