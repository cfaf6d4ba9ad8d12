// The exercise views, loaded as one chunk on the first exercise page (the editor's own bundle stays as it was).
import './exercises.css';

export { AuthoringForm } from './AuthoringForm.js';
export { ExerciseCatalog } from './ExerciseCatalog.js';
export { ExercisePane, type ExercisePaneHandle, type ExercisePaneProps } from './ExercisePane.js';
