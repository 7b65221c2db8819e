export type ViolationCode = 'TYPE' | 'ENUM' | 'TIME' | 'RATE' | 'REQUIRED' | 'RANGE' | 'SUPPORT' | 'UNKNOWN';
export interface Violation {
  field: string;
  code: ViolationCode;
  detail: string;
}
