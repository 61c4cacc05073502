/** The site's shared look: every spec that imports it is regenerated when it changes. */
export const brand = {
  look: 'soft morning light, teal and amber palette, shallow depth of field, 35mm film grain',
  negative: 'blurry, low quality, distorted, flickering, watermark, text',
  steps: 30,
  guidance: 8,
}
