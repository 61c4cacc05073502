// Imported in a route module: rendered on the server (prerendered HTML) and hydrated in the browser.
import hero from '../videos/hero.video'
import loop from '../videos/loop.video'

export default function Home() {
  return (
    <main>
      <video id="video-hero" src={hero.src} poster={hero.poster} width={hero.width} height={hero.height} muted controls preload="auto" />
      <video id="video-loop" src={loop.src} poster={loop.poster} muted controls preload="auto" />
    </main>
  )
}
