// Types for imports with rendition directives. TypeScript cannot resolve `./hero.video?w=640` to the
// spec file, so such an import ends with `&vidspec` (the way vite-imagetools uses `&imagetools`) and
// is typed here. Add `/// <reference types="@vidspec/vite/client" />` (or "types": ["@vidspec/vite/client"]).
//   import hero from './hero.video?w=640;1280&format=webm;mp4&vidspec'
declare module '*&vidspec' {
  const asset: import('@vidspec/core').VideoAsset
  export default asset
}
