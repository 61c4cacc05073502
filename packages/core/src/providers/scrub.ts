/** Never let the key reach a message, even if a server or a proxy echoes it. */
export function scrub(text: string, apiKey: string): string {
  return apiKey.length >= 4 ? text.split(apiKey).join('***') : text
}
