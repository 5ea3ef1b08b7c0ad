// `express4` is Express 4 installed under an alias (npm:express@4) so both majors are tested; its API surface
// used by the tests is the same as Express 5's.
declare module 'express4' {
  import express from 'express'
  export default express
}
