/**
 * Resource manager errors: what the ARM services throw and the HTTP layer writes as
 * `{"error":{"code","message"}}`, the envelope az (`response.json()['error']['message']`) and the
 * SDKs (RestError) read. Codes and texts follow ARM's where a client or a script depends on them.
 */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** ARM's `details`: further errors, here the authorization decision's reason. */
    readonly details?: Array<{ code: string; message: string }>,
    /** Response headers the error needs, e.g. a 401's WWW-Authenticate challenge. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function resourceGroupNotFound(name: string): ArmError {
  return new ArmError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`);
}

export function resourceNotFound(type: string, resourceGroup: string, name: string): ArmError {
  return new ArmError(404, 'ResourceNotFound', `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
}

export function subscriptionNotFound(id: string): ArmError {
  return new ArmError(404, 'SubscriptionNotFound', `The subscription '${id}' could not be found.`);
}

export function invalidRequestContent(detail: string): ArmError {
  return new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${detail}'.`);
}

export function invalidParameter(message: string): ArmError {
  return new ArmError(400, 'InvalidParameter', message);
}
