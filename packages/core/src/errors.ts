// Re-exported from @tokenrl/base (the tensor-free part), so one class per error and `instanceof` holds everywhere.
export * from "@tokenrl/base/errors";
