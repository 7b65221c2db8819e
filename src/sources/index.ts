export { TutorCityRowSchema, recordAssignment, recordsFrom, recordText, type TutorCityRecord, type TutorCityRow } from './tutorcity/record.ts';
export { fetchTutorCityRows, pollTutorCity, runTutorCityPoller, TutorCityError, TUTORCITY_CHANNEL, type PollResult } from './tutorcity/poll.ts';
export { structuredAssignment } from './structured.ts';
