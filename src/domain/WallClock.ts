/**
 * The clock of code that runs outside Effect (the PVE simulator, a program that embeds it): the
 * one place that reads the system time directly. Everything else reads Effect's `Clock`, which
 * tests drive with `TestClock`.
 */
export const wallClock = (): number => Date.now()
