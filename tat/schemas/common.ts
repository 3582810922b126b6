import { z } from 'zod';

// Structures shared by several actions (docs/tat-api-reference.md, "Data types"). Requests are
// checked for shape here (types, required fields); value rules with their own error codes live in
// ../validate.ts.

export const Filter = z.object({ Name: z.string(), Values: z.array(z.string()) });
export type Filter = z.infer<typeof Filter>;

export const Tag = z.object({ Key: z.string(), Value: z.string() });
export type Tag = z.infer<typeof Tag>;

export const DefaultParameterConf = z.object({
  ParameterName: z.string(),
  ParameterValue: z.string(),
  ParameterDescription: z.string().optional(),
});
export type DefaultParameterConf = z.infer<typeof DefaultParameterConf>;

export const uint = () => z.number().int();
export const Paging = { Limit: uint().optional(), Offset: uint().optional() };
