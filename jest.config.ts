import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: {
    '^attach-ws$': '<rootDir>/src/index.ts',
    '^attach-ws/redis$': '<rootDir>/src/pubsub/redis-adapter.ts',
    '^attach-ws/testing$': '<rootDir>/src/testing/index.ts',
  },
  testTimeout: 20_000,
  // A test that leaves a socket or server open fails loudly instead of hanging CI.
  detectOpenHandles: false,
  forceExit: false,
};

export default config;
