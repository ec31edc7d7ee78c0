// Jest setupFile of the "deflate, async zlib only" project (jest.config.ts):
// runs before any module of the test file loads, so deflate-sync.ts reads it.
process.env.ATTACH_WS_DEFLATE_SYNC = '0';
