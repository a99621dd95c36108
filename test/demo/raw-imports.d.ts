// Vite's `?raw` suffix imports a file's text; the demo tests read real records this way.
declare module '*?raw' {
  const text: string
  export default text
}
