import { Type } from '@sinclair/typebox';
import { CommonConfig, loadConfig } from '@gdx/config';

export const RequestApprovalConfigSchema = {
  ...CommonConfig,
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8082 }),
  gatewayUrl: Type.String({ default: 'http://127.0.0.1:8080', description: 'The gateway, for the unit directory and other synchronous reads.' }),
};

export type RequestApprovalConfig = ReturnType<typeof loadRequestApprovalConfig>;

export function loadRequestApprovalConfig(env: Record<string, string | undefined> = process.env, overrides = {}) {
  return loadConfig(RequestApprovalConfigSchema, env, overrides);
}
