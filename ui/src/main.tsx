/** Entry point: render the app and start the live connection. */
import { render } from 'preact';
import { App } from './App.js';
import { startLive } from './live.js';
import './styles.css';

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
startLive();
