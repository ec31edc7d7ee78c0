import type { Config } from 'jest';

const moduleNameMapper: Record<string, string> = {
  '^attach-ws$': '<rootDir>/src/index.ts',
  '^attach-ws/redis$': '<rootDir>/src/pubsub/redis-adapter.ts',
};

const base = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleNameMapper,
};

const config: Config = {
  testTimeout: 20_000,
  // A test that leaves a socket or server open fails loudly instead of hanging CI.
  detectOpenHandles: false,
  forceExit: false,
  projects: [
    { ...base, displayName: 'express5' },
    // The Express suites again on Express 4 (devDependency alias express4 → express@4): every
    // `require('express')`, attach-ws's own included, gets Express 4 there, as for a user on 4.
    {
      ...base,
      displayName: 'express4',
      testMatch: ['<rootDir>/test/integration/express/**/*.test.ts', '<rootDir>/test/security/all-guard.test.ts'],
      moduleNameMapper: {
        ...moduleNameMapper,
        '^express$': '<rootDir>/node_modules/express4',
        '^express/(.*)$': '<rootDir>/node_modules/express4/$1',
      },
    },
  ],
};

export default config;
