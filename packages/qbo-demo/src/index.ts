export * from './runDemo.js';
